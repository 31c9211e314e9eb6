// Progress of a flood on stderr: a bar on a TTY, a plain line every second otherwise.
import cliProgress from 'cli-progress';
import type { FloodProgress } from '../flood/index.js';

export interface ProgressDisplay {
  update(p: FloodProgress): void;
  stop(): void;
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function progressDisplay(stream: NodeJS.WriteStream): ProgressDisplay {
  if (stream.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: ' {phase} |{bar}| {value}/{total} events | {rate} ev/s | in flight {inFlight} | errors {errors}',
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const total = p.total ?? Math.max(p.pushed, 1);
        const payload = { phase: p.phase.padEnd(5), rate: fmt(p.recentEventsPerSec), inFlight: p.inFlight, errors: p.errors };
        if (!started) {
          bar.start(total, p.done, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(p.done, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(p) {
      if (p.elapsedMs - last < 1000 && p.phase === 'flood') return;
      last = p.elapsedMs;
      stream.write(
        `flood: ${p.phase} ${(p.elapsedMs / 1000).toFixed(1)}s done ${fmt(p.done)}${p.total === null ? '' : `/${fmt(p.total)}`} ` +
          `${fmt(p.recentEventsPerSec)} ev/s in-flight ${p.inFlight} errors ${p.errors}\n`,
      );
    },
    stop() {},
  };
}
