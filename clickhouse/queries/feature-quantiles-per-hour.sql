-- One feature's quantiles per hour (here MedInc): the raw-data view of what the sketches summarize.
SELECT
  toStartOfHour(event_time) AS hour,
  count() AS n,
  arrayMap(x -> round(x, 3), quantilesTDigest(0.05, 0.25, 0.5, 0.75, 0.95)(MedInc)) AS medinc_quantiles
FROM predictions_california_housing FINAL
GROUP BY hour
ORDER BY hour
