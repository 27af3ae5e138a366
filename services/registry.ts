import type { ServiceModule } from '../shared/app/app-context.ts';
import type { ServiceName } from '../shared/contract/queue-names.ts';

/**
 * The services `vigil run` can start, loaded on demand so a process that runs only the
 * transcoder never loads TensorFlow. Each later issue adds its service here.
 */
export const SERVICES: Partial<Record<ServiceName, () => Promise<ServiceModule>>> = {
  facetraining: async () => (await import('./facetraining/main.ts')).service,
  facestreaming: async () => (await import('./facestreaming/main.ts')).service,
  transcoder: async () => (await import('./transcoder/main.ts')).service,
};

export function availableServices(): ServiceName[] {
  return Object.keys(SERVICES) as ServiceName[];
}
