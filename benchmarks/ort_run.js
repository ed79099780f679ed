#!/usr/bin/env node
// Times an ONNX model on ONNX Runtime's CPU execution provider, through the
// npm package onnxruntime-node (its prebuilt CPU binaries, installed with
// `npm install --ignore-scripts onnxruntime-node`; benchmarks/models_bench.py
// does that into ~/.cache/sparsenn-bench/ort).
//
// usage: node benchmarks/ort_run.js --model m.onnx --input x.npy
//            [--shape 1,3,224,224]   (needed for a raw .bin input)
//            [--threads 1] [--warmup 2] [--repeat 10]
//            [--output y.npy]        (the first output, float32 .npy)
//            [--ort-dir ~/.cache/sparsenn-bench/ort]
//
// Prints one line `ort: median X ms, min Y ms over R runs (session Z ms, ...)`
// and, with --json, a JSON object on the last line.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

function parseArgs(argv) {
  const a = {threads: 1, warmup: 2, repeat: 10, ortDir: path.join(os.homedir(), '.cache', 'sparsenn-bench', 'ort')};
  for (let i = 0; i < argv.length; ++i) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) fail(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--model') a.model = v();
    else if (k === '--input') a.input = v();
    else if (k === '--shape') a.shape = v().split(',').map(Number);
    else if (k === '--threads') a.threads = Number(v());
    else if (k === '--warmup') a.warmup = Number(v());
    else if (k === '--repeat') a.repeat = Number(v());
    else if (k === '--output') a.output = v();
    else if (k === '--ort-dir') a.ortDir = v();
    else if (k === '--json') a.json = true;
    else if (k === '-h' || k === '--help') {
      console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'));
      process.exit(0);
    } else fail(`unknown argument ${k}`);
  }
  if (!a.model || !a.input) fail('--model and --input are required');
  return a;
}

function fail(msg) {
  process.stderr.write(`ort_run: error: ${msg}\n`);
  process.exit(1);
}

// A little-endian float32, C-order .npy (versions 1-3), or raw float32 with --shape.
function readInput(file, shape) {
  const buf = fs.readFileSync(file);
  let offset = 0;
  if (buf.length >= 10 && buf[0] === 0x93 && buf.toString('latin1', 1, 6) === 'NUMPY') {
    const major = buf[6];
    const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const header = buf.toString('latin1', start, start + headerLen);
    if (!/'descr':\s*'<f4'/.test(header)) fail(`${file}: not float32 (${header.trim()})`);
    if (/'fortran_order':\s*True/.test(header)) fail(`${file}: Fortran order`);
    const m = /'shape':\s*\(([^)]*)\)/.exec(header);
    if (!m) fail(`${file}: no shape in the header`);
    shape = m[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
    offset = start + headerLen;
  } else if (!shape) {
    fail(`${file}: a raw input needs --shape`);
  }
  const n = shape.reduce((x, y) => x * y, 1);
  if (buf.length - offset !== 4 * n) fail(`${file}: ${buf.length - offset} bytes of data for shape [${shape}]`);
  // Copy: the data need not be 4-byte aligned inside the Buffer.
  const data = new Float32Array(n);
  Buffer.from(data.buffer).set(buf.subarray(offset));
  return {data, shape};
}

function writeNpy(file, data, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre[0] = 0x93;
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const f32 = Float32Array.from(data);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(f32.buffer)]));
}

function loadOrt(dir) {
  let where;
  try {
    where = require.resolve('onnxruntime-node', {paths: [dir, path.join(dir, 'node_modules')]});
  } catch (e) {
    fail(`onnxruntime-node is not installed in ${dir} (npm install --ignore-scripts onnxruntime-node there)`);
  }
  try {
    return require(where);
  } catch (e) {
    fail(`onnxruntime-node in ${dir} does not load: ${e.message}`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = loadOrt(args.ortDir);
  const {data, shape} = readInput(args.input, args.shape);
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const sessionMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  let out;
  for (let i = 0; i < Math.max(args.warmup, 1); ++i) out = await session.run(feeds);
  const ms = [];
  for (let i = 0; i < args.repeat; ++i) {
    const t = process.hrtime.bigint();
    out = await session.run(feeds);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((x, y) => x - y);
  const y = out[session.outputNames[0]];
  if (args.output) writeNpy(args.output, y.data, y.dims);
  const median = ms.length ? ms[ms.length >> 1] : NaN;
  const version = (ort.env && ort.env.versions && ort.env.versions.node) || '?';
  console.log(`ort: median ${median.toFixed(4)} ms, min ${(ms.length ? ms[0] : NaN).toFixed(4)} ms over ${ms.length} runs ` +
              `(onnxruntime-node ${version}, ${args.threads} intra-op threads, session ${sessionMs.toFixed(1)} ms, ` +
              `output [${y.dims}])`);
  if (args.json)
    console.log(JSON.stringify({median_ms: median, min_ms: ms[0], runs: ms.length, session_ms: sessionMs,
                                version, threads: args.threads, output_shape: y.dims}));
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
