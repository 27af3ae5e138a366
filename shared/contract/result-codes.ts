/**
 * Every result code of CONTRACT.md with its description. The `result_code` table is
 * synced from this list after each migration run (reference data, not schema), so a code
 * added here reaches every database on the next `vigil migrate`.
 */
export const RESULT_CODES = [
  { code: 'SUCCESS', isSuccess: true, description: 'The face matches the employee (stream) or the enrolment photo was accepted (train).' },
  { code: 'SUCCESS_MULTIPLE_FACES', isSuccess: true, description: 'Several faces in the snapshot; one of them is the employee.' },
  { code: 'UNKNOWN_PERSON', isSuccess: false, description: 'One face in the snapshot, and it is not the employee.' },
  { code: 'UNKNOWN_MULTIPLE_FACES', isSuccess: false, description: 'Several faces in the snapshot; none of them is the employee.' },
  { code: 'NO_FACES_FOUND', isSuccess: false, description: 'No face was found in the image.' },
  { code: 'MULTIPLE_FACES', isSuccess: false, description: 'The enrolment photo shows more than one face.' },
  { code: 'LOW_QUALITY', isSuccess: false, description: 'The enrolment photo failed the quality gate; the reasons are in process_status.detail.' },
  { code: 'NO_TRAINING_IMAGE', isSuccess: false, description: 'The employee has no enrolment photo.' },
  { code: 'TRAINING_IMAGE_FAILED', isSuccess: false, description: "The employee's newest processed enrolment photo was refused." },
  { code: 'IMPERSONATION_SUSPECTED', isSuccess: false, description: 'The last snapshots are near-identical: a photo or a screen held to the camera is suspected.' },
  { code: 'INVALID_IMAGE', isSuccess: false, description: 'The image bytes are missing, corrupt, truncated or not an image.' },
  { code: 'DUPLICATE_IDENTITY', isSuccess: false, description: "The enrolment photo's face matches another employee's gallery; process_status.detail names that lan_id and the distance." },
] as const;

export type ResultCode = (typeof RESULT_CODES)[number]['code'];

export const TRAIN_RESULTS = ['SUCCESS', 'NO_FACES_FOUND', 'MULTIPLE_FACES', 'LOW_QUALITY', 'INVALID_IMAGE', 'DUPLICATE_IDENTITY'] as const satisfies readonly ResultCode[];
export const STREAM_RESULTS = [
  'SUCCESS', 'SUCCESS_MULTIPLE_FACES', 'UNKNOWN_PERSON', 'UNKNOWN_MULTIPLE_FACES', 'NO_FACES_FOUND',
  'NO_TRAINING_IMAGE', 'TRAINING_IMAGE_FAILED', 'IMPERSONATION_SUSPECTED', 'INVALID_IMAGE',
] as const satisfies readonly ResultCode[];

export type TrainResult = (typeof TRAIN_RESULTS)[number];
export type StreamResult = (typeof STREAM_RESULTS)[number];
