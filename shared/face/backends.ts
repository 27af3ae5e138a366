// Apart from engine.ts so the configuration (and every `vigil` command that reads it) can
// name the backends without loading the engine's module graph.

/** `FACE_BACKEND`'s values: `auto` tries the native backend, then wasm, then cpu. */
export const FACE_BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type FaceBackendChoice = (typeof FACE_BACKENDS)[number];
export type FaceBackend = Exclude<FaceBackendChoice, 'auto'>;
