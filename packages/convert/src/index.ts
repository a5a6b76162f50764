/**
 * @vpeft/convert — reads the ViT checkpoints users bring into vpeft's one internal layout (timm names,
 * PyTorch layouts) with their config: Google/big_vision `.npz`, Hugging Face `transformers` ViT,
 * DINOv2 and OpenAI/OpenCLIP. Node-only (reads files). `vpeft convert` is its command line.
 */
export { convertCheckpoint, writeConverted, CHECKPOINT_LAYOUTS, type CheckpointLayout, type ConvertOptions } from './convert';
export { fromBigVision } from './layouts/big-vision';
export { fromHuggingFaceViT, type HuggingFaceViTConfig, type HuggingFaceViTOptions } from './layouts/hf-vit';
export { fromDinov2, type Dinov2Options } from './layouts/dinov2';
export { fromClip, type ClipOptions } from './layouts/clip';
export type { ConvertedCheckpoint, ReaderOptions } from './layouts/converted';
export { readNpz } from './npz';
export { parseNpyHeader, decodeNpyData, type NpyHeader, type NpyDtype } from './npy';
export { readZipDirectory, readZipEntry, type ZipEntry } from './zip';
export { CheckpointKeys } from './checkpoint-keys';
