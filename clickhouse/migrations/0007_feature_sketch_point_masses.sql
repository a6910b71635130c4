-- Which centroids of a numeric pane sketch are point masses (copies of one value), one 0/1 per
-- entry of centroid_means (sketch format 2, core/sketch/numeric-sketch.ts). Rows written before
-- read as an empty array: a format-1 sketch, whose point masses are inferred.
ALTER TABLE feature_sketches ADD COLUMN centroid_point_masses Array(UInt8) DEFAULT [];
