-- What the store consumer emitted: closed panes per column, with counts and moments.
SELECT
  column_name,
  pane_start,
  sum(count) AS n,
  round(sum(mean * count) / sum(count), 4) AS mean,
  sum(late_count) AS late
FROM feature_sketches FINAL
WHERE model_name = 'california-housing'
GROUP BY column_name, pane_start
ORDER BY pane_start, column_name
