-- Realized error once labels arrive: predictions joined to ground truth by event id, per minute.
SELECT
  toStartOfMinute(p.event_time) AS minute,
  count() AS labelled,
  round(sqrt(avg((p.prediction - g.actual) * (p.prediction - g.actual))), 4) AS rmse,
  round(avg(abs(p.prediction - g.actual)), 4) AS mae
FROM
  (SELECT event_id, event_time, prediction FROM predictions_california_housing FINAL) AS p
  ANY INNER JOIN
  (SELECT event_id, actual FROM ground_truth FINAL WHERE model_name = 'california-housing') AS g
  USING event_id
GROUP BY minute
ORDER BY minute
