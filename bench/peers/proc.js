'use strict';
// What the peers benchmark reads from Linux about a process under test: CPU time (utime +
// stime from /proc/<pid>/stat) and peak resident memory (VmHWM from /proc/<pid>/status), summed
// over the process and its descendants so a sidecar that forks workers is measured whole; and
// CPU pinning with taskset.
const { fork, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const net = require('net');

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime, stime (ticks) and ppid of one process; undefined once it is gone. */
function stat(pid) {
  let text;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]) };
}

/** `pid` and every live descendant. */
function tree(pid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(name);
    if (s === undefined) continue;
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(Number(name));
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) || []) walk(c);
  };
  walk(pid);
  return out;
}

/** CPU seconds (user + system) used so far by `pid` and its descendants. */
function cpuSeconds(pid) {
  let ticks = 0;
  for (const p of tree(pid)) {
    const s = stat(p);
    if (s !== undefined) ticks += s.utime + s.stime;
  }
  return ticks / CLK_TCK;
}

/** Peak resident set (VmHWM) in bytes of `pid` plus that of each descendant. */
function peakRssBytes(pid) {
  let kib = 0;
  for (const p of tree(pid)) {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      // gone meanwhile
    }
  }
  return kib * 1024;
}

function hasTaskset() {
  return spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Pins a running process, every thread of it, to `cpus` ("1", "0,1"). */
function pin(pid, cpus) {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -p -c ${cpus} ${pid}: ${r.stderr.trim()}`);
}

/** A free loopback port (closed again at once; the OS does not hand it out again so soon). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** A child process of a bench (bench/peers/<file>: load generator, sink) answering each message with one message (of `type`, when given). */
function helper(file) {
  const child = fork(path.join(__dirname, file), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = (msg, type) =>
    new Promise((resolve, reject) => {
      const onExit = (code) => reject(new Error(`${file} exited (${code})`));
      child.once('exit', onExit);
      const onMessage = (m) => {
        if (type !== undefined && m.type !== type) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (m.error) reject(new Error(m.error));
        else resolve(m);
      };
      child.on('message', onMessage);
      if (msg !== undefined) child.send(msg);
    });
  return { child, ask };
}

module.exports = { cpuSeconds, peakRssBytes, hasTaskset, pin, freePort, helper };
