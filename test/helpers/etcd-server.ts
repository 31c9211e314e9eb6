// Runs a real etcd server for the DB watcher tests: free loopback ports, a temporary data dir,
// ready when /health answers; it can be halted and restarted on the same ports and data.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  /** Client URL, e.g. `http://127.0.0.1:23790`. */
  readonly url: string;
  readonly dataDir: string;
  /** Stops the process but keeps ports and data, for `restart()`. */
  halt(): Promise<void>;
  /** Starts the process again on the same ports and data dir; resolves when it answers. */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered — a stalled server. */
  pause(): void;
  /** Lets a paused process run again (SIGCONT). */
  resume(): void;
  /** Stops the process and removes the data dir. */
  stop(): Promise<void>;
}

function etcdBinary(): string {
  const fromEnv = process.env['ETCD_BIN'];
  if (fromEnv) return fromEnv;
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  return 'etcd';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | null = null;
  const onExit = (code: number | null, signal: string | null): void => {
    exited = `etcd exited early (code ${code}, signal ${signal})`;
  };
  child.once('exit', onExit);
  try {
    while (Date.now() < deadline) {
      if (exited) throw new Error(exited);
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`etcd at ${url} did not become healthy within ${timeoutMs} ms`);
  } finally {
    child.off('exit', onExit);
  }
}

async function killChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts etcd on free loopback ports. Ports are found free by binding port 0 and letting it go, so
 * another test process can take one before etcd binds it: an etcd that exits at start is tried
 * again on other ports.
 */
export async function startEtcd(): Promise<EtcdServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEtcdOnce();
    } catch (err) {
      if (attempt >= 3 || !(err as Error).message.includes('exited early')) throw err;
    }
  }
}

async function startEtcdOnce(): Promise<EtcdServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'dbwatcher-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 'test',
    '--data-dir', dataDir,
    '--listen-client-urls', url,
    '--advertise-client-urls', url,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `test=${peer}`,
    '--logger', 'zap',
    '--log-level', 'error',
  ];
  let child: ChildProcess | null = null;
  // An etcd must not outlive the test or bench process that started it.
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  };
  // On SIGINT/SIGTERM: kill etcd, then let the signal do what it would have done.
  const onSignal = (signal: NodeJS.Signals): void => {
    killOnExit();
    unhook();
    process.kill(process.pid, signal);
  };
  const unhook = (): void => {
    process.off('exit', killOnExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.once('exit', killOnExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const launch = async (): Promise<void> => {
    child = spawn(etcdBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + String(d)).slice(-400)));
    const spawned = child;
    await new Promise<void>((resolve, reject) => {
      spawned.once('spawn', () => resolve());
      spawned.once('error', (err) => reject(new Error(`cannot start etcd (${etcdBinary()}): ${err.message}`)));
    });
    try {
      await waitHealthy(url, spawned, 15_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}${stderr ? `: ${stderr.trim()}` : ''}`, { cause: err });
    }
  };
  try {
    await launch();
  } catch (err) {
    unhook();
    await killChild(child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    dataDir,
    halt: async () => {
      await killChild(child);
      child = null;
    },
    restart: async () => {
      await killChild(child);
      await launch();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    stop: async () => {
      unhook();
      await killChild(child);
      child = null;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
