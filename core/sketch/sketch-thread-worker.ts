/**
 * The worker side of `SketchThread` (sketch-thread.ts): numeric sketches kept by id, fed the
 * values the main thread buffered, in the order it pushed them — so each comes out exactly as a
 * `NumericSketch` pushed the same values on the main thread would.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { NumericSketch } from './numeric-sketch.ts';
import type { SketchThreadReply, SketchThreadRequest } from './sketch-thread.ts';

if (!parentPort) throw new Error('sketch-thread-worker runs as a worker thread (see SketchThread)');
const port = parentPort;
const sketches = new Map<number, NumericSketch>();

function sketchOf(id: number): NumericSketch {
  let sketch = sketches.get(id);
  if (!sketch) {
    sketch = NumericSketch.create();
    sketches.set(id, sketch);
  }
  return sketch;
}

/** This thread's JS heap and typed-array bytes after full collections (for benches). */
function settledHeap(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

function pushAll(sketch: NumericSketch, values: Float64Array): void {
  for (let i = 0; i < values.length; i++) sketch.push(values[i]);
}

port.on('message', (requests: SketchThreadRequest[]) => {
  const replies: SketchThreadReply[] = [];
  for (const request of requests) {
    switch (request.op) {
      case 'push':
        pushAll(sketchOf(request.id), request.values);
        break;
      case 'finish': {
        const sketch = sketchOf(request.id);
        pushAll(sketch, request.values);
        sketches.delete(request.id);
        replies.push({ id: request.id, json: sketch.toJSON() });
        break;
      }
      case 'drop':
        for (const id of request.ids) sketches.delete(id);
        break;
      case 'count':
        replies.push({ id: request.id, live: sketches.size });
        break;
      case 'heap':
        replies.push({ id: request.id, heap: settledHeap() });
        break;
    }
  }
  if (replies.length > 0) port.postMessage(replies);
});
