/**
 * Replay straight to Kafka: scores records with the model in this process and produces the
 * same prediction and ground-truth events the predict service would.
 */
import { type EventSink, type ServingModel, score } from '../../model/scoring.ts';
import type { ReplaySender } from './replay.ts';

export function kafkaSender(model: ServingModel, sink: EventSink): ReplaySender {
  return {
    async predict(records) {
      const { events } = await score(model, records);
      await Promise.all(events.map((event) => sink.sendPrediction(event)));
      return events.map((e) => e.event_id);
    },
    async feedback(items) {
      await Promise.all(
        items.map((item) =>
          sink.sendGroundTruth({
            event_id: item.event_id,
            model_name: model.name,
            actual: item.actual,
            event_time: new Date(item.event_time),
          }),
        ),
      );
    },
  };
}
