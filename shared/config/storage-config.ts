import { isBucketName } from '../contract/object-key.ts';
import type { ObjectStoreConfig } from '../storage/object-store.ts';
import type { EnvReader } from './env-reader.ts';

export interface BucketsConfig {
  /** `BUCKET_SOURCE`: uploaded camera videos. @default 'video-avi' */
  source: string;
  /** `BUCKET_VIDEO`: browser MP4s and clips. @default 'video-mp4' */
  video: string;
  /** `BUCKET_FRAMES`: frames for labelling. @default 'unlabeled-images' */
  frames: string;
  /** `BUCKET_LIBRARY`: published talks. @default 'video-library' */
  library: string;
}

export function readObjectStoreConfig(r: EnvReader): ObjectStoreConfig {
  const s3: ObjectStoreConfig = {
    endpoint: r.url('S3_ENDPOINT', undefined, ['http', 'https']),
    region: r.string('S3_REGION', 'us-east-1'),
    accessKeyId: r.optionalString('S3_ACCESS_KEY_ID', { secret: true }),
    secretAccessKey: r.optionalString('S3_SECRET_ACCESS_KEY', { secret: true }),
    createBuckets: r.bool('S3_CREATE_BUCKETS', true),
  };
  if ((s3.accessKeyId === undefined) !== (s3.secretAccessKey === undefined)) {
    r.problems.push({ variable: 'S3_SECRET_ACCESS_KEY', expected: 'set together with S3_ACCESS_KEY_ID' });
  }
  return s3;
}

export function readBucketsConfig(r: EnvReader): BucketsConfig {
  const bucket = (name: string, fallback: string) => r.matching(name, fallback, isBucketName, 'an S3 bucket name (3-63 of a-z 0-9 . -)');
  return {
    source: bucket('BUCKET_SOURCE', 'video-avi'),
    video: bucket('BUCKET_VIDEO', 'video-mp4'),
    frames: bucket('BUCKET_FRAMES', 'unlabeled-images'),
    library: bucket('BUCKET_LIBRARY', 'video-library'),
  };
}
