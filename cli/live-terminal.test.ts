import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { liveTerminal } from './live-terminal.ts';

function stream(isTTY: boolean, columns = 80) {
  const out = Object.assign(new PassThrough(), { isTTY, columns });
  let text = '';
  out.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { out, text: () => text };
}

describe('liveTerminal', () => {
  it('on a TTY redraws the block in place and prints logged lines above it', () => {
    const { out, text } = stream(true);
    const terminal = liveTerminal(out);
    expect(terminal.live).toBe(true);
    terminal.draw(['a', 'b']);
    terminal.draw(['c', 'd', 'e']);
    terminal.log('ALERT OPEN');
    terminal.clear();
    expect(text()).toBe(
      [
        'a\nb\n',
        // up two lines to the block's start, clear below, draw the new block
        '\u001b[2F\u001b[0Jc\nd\ne\n',
        '\u001b[3F\u001b[0JALERT OPEN\nc\nd\ne\n',
        '\u001b[3F\u001b[0J',
      ].join(''),
    );
  });

  it('cuts block lines to the terminal width, so none wraps and the redraw counts right', () => {
    const { out, text } = stream(true, 21);
    liveTerminal(out).draw(['x'.repeat(50)]);
    expect(text()).toBe(`${'x'.repeat(20)}\n`);
  });

  it('assumes 100 columns when a pseudo-terminal reports none', () => {
    const { out, text } = stream(true, 0);
    liveTerminal(out).draw(['y'.repeat(150)]);
    expect(text()).toBe(`${'y'.repeat(99)}\n`);
  });

  it('elsewhere writes logged lines only, never the block nor escape codes', () => {
    const { out, text } = stream(false);
    const terminal = liveTerminal(out);
    expect(terminal.live).toBe(false);
    terminal.draw(['a']);
    terminal.log('one');
    terminal.stream.write('two\n');
    terminal.clear();
    expect(text()).toBe('one\ntwo\n');
  });
});
