import { z } from 'zod';
import { PermanentError } from '../../../shared/errors.ts';
import type { VideoJob } from '../../../shared/contract/messages.ts';

/**
 * `vigil import --hook-data-json`: settings for every camera, with per-camera overrides
 * under `cameras.<name>`, in the seed importer's names (seed 001). Pure.
 *
 * - `img_x_size` × `img_y_size`: the size of the extracted frames (the transcoder scales
 *   every kept frame to fit in it, aspect kept): the job's `frames.width`/`frames.height`.
 * - `img_y_size_extraction`: the height frames are extracted at before resizing; without
 *   `img_y_size` it is the frames' height. As in the seed, it is raised to `img_y_size` or
 *   `img_y_size_cover` when one is larger (extracting small only to scale up makes no sense).
 * - `img_x_size_cover`, `img_y_size_cover`, `plan`: kept with the import job; the
 *   transcoder makes no cover images and has no plans.
 * Unknown names are refused, so a typo does not silently leave the default in place.
 */

const size = z.number().int().min(16).max(8192);
const settingsShape = {
  plan: z.enum(['basic', 'plus', 'pro']).optional(),
  img_y_size_extraction: size.optional(),
  img_x_size_cover: size.optional(),
  img_y_size_cover: size.optional(),
  img_x_size: size.optional(),
  img_y_size: size.optional(),
};
const cameraSettingsSchema = z.object(settingsShape).strict();
const hookDataSchema = z.object({ ...settingsShape, cameras: z.record(z.string().min(1).max(128), cameraSettingsSchema).optional() }).strict();

export type CameraSettings = z.infer<typeof cameraSettingsSchema>;
export type HookData = z.infer<typeof hookDataSchema>;

export class BadHookDataError extends PermanentError {
  constructor(message: string, cause?: unknown) {
    super('BAD_HOOK_DATA', message, cause);
  }
}

/** Parses and checks the JSON text. @throws BadHookDataError naming the field */
export function parseHookData(text: string, source: string): HookData {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BadHookDataError(`${source} is not valid JSON: ${(err as Error).message}`, err);
  }
  const r = hookDataSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const at = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new BadHookDataError(`${source}: ${at}: ${issue.message}`);
  }
  return r.data;
}

/** The camera's own values over the global ones, field by field. */
export function cameraSettings(hook: HookData | undefined, camera: string): CameraSettings {
  if (hook === undefined) return {};
  const { cameras, ...global } = hook;
  const own = cameras !== undefined && Object.hasOwn(cameras, camera) ? cameras[camera] : undefined;
  const merged: CameraSettings = { ...global };
  for (const [k, v] of Object.entries(own ?? {})) if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  const ys = [merged.img_y_size_extraction, merged.img_y_size, merged.img_y_size_cover].filter((v): v is number => v !== undefined);
  if (merged.img_y_size_extraction !== undefined) merged.img_y_size_extraction = Math.max(...ys);
  return merged;
}

/** The transcoder job's `frames` size from the settings; undefined when none is set. */
export function framesSize(s: CameraSettings): Pick<NonNullable<VideoJob['frames']>, 'width' | 'height'> | undefined {
  const width = s.img_x_size;
  const height = s.img_y_size ?? s.img_y_size_extraction;
  if (width === undefined && height === undefined) return undefined;
  return { ...(width !== undefined && { width }), ...(height !== undefined && { height }) };
}
