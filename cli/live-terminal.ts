/**
 * Writes the demo's output. On a TTY a status block stays at the bottom and is redrawn in place
 * (ANSI: move up, clear to the end of the screen, draw); lines logged meanwhile are printed above
 * it. Elsewhere (a pipe, a file, CI) lines are written as they come and the block is never drawn.
 */
import { Writable } from 'node:stream';

export interface LiveTerminal {
  /** True when a status block is drawn (a TTY). */
  readonly live: boolean;
  /** A line (or lines) that stays in the scrollback. */
  log(text: string): void;
  /** Replaces the status block; ignored when not live. */
  draw(lines: readonly string[]): void;
  /** Removes the block, so what follows (the summary) starts on a clean line. */
  clear(): void;
  /** A stream whose writes are logged (for components that write lines themselves, e.g. printed alerts). */
  readonly stream: NodeJS.WritableStream;
}

type TerminalStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

const ESC = '\u001b[';

export function liveTerminal(out: TerminalStream): LiveTerminal {
  const live = out.isTTY === true;
  let drawn: readonly string[] = [];
  // Cursor to the start of the block's first line, then clear everything below it.
  const erase = () => (drawn.length > 0 ? `${ESC}${drawn.length}F${ESC}0J` : '');
  const block = () => drawn.map((line) => `${line}\n`).join('');
  const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

  const terminal: LiveTerminal = {
    live,
    log(text) {
      if (!live) {
        out.write(withNewline(text));
        return;
      }
      out.write(`${erase()}${withNewline(text)}${block()}`);
    },
    draw(lines) {
      if (!live) return;
      // A pseudo-terminal may report 0 columns: then assume a common width.
      const width = Math.max(20, (out.columns || 100) - 1);
      const before = erase();
      drawn = lines.map((line) => (line.length > width ? line.slice(0, width) : line));
      out.write(`${before}${block()}`);
    },
    clear() {
      if (!live) return;
      out.write(erase());
      drawn = [];
    },
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        terminal.log(chunk.toString());
        done();
      },
    }),
  };
  return terminal;
}
