-- Distribution of the model's predictions over time: count and quartiles per minute and version.
SELECT
  toStartOfMinute(event_time) AS minute,
  model_version,
  count() AS predictions,
  round(avg(prediction), 4) AS mean,
  arrayMap(x -> round(x, 4), quantilesTDigest(0.25, 0.5, 0.75)(prediction)) AS quartiles
FROM predictions_california_housing FINAL
GROUP BY minute, model_version
ORDER BY minute, model_version
