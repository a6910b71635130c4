/**
 * Topic names. Predictions get a topic per model (`predictions.<model>`): each model has its
 * own feature columns and so its own Avro schema (subject `predictions.<model>-value`), and
 * consumers subscribe to all of them with one pattern.
 */
export const TOPICS = {
  groundTruth: 'ground-truth',
  modelDeployments: 'model-deployments',
  featureSketches: 'feature-sketches',
  driftEvents: 'drift-events',
  deadLetter: 'driftline-dead-letter',
} as const;

export const PREDICTIONS_TOPIC_PREFIX = 'predictions.';
export const PREDICTIONS_TOPIC_PATTERN = /^predictions\.[a-z][a-z0-9-]*$/;

export function predictionsTopic(model: string): string {
  return `${PREDICTIONS_TOPIC_PREFIX}${model}`;
}

/** Confluent TopicNameStrategy: the value schema of topic T lives under subject `T-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
