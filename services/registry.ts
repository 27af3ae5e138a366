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
  uploader: async () => (await import('./uploader/main.ts')).service,
  notifier: async () => (await import('./notifier/main.ts')).service,
};

export function availableServices(): ServiceName[] {
  return Object.keys(SERVICES) as ServiceName[];
}

/** Names as given on a command line (`all` for every available one), checked. */
export function resolveServices(names: readonly string[]): ServiceName[] {
  const available = availableServices();
  const wanted = names.length === 0 || names.includes('all') ? available : [...new Set(names)];
  const unknown = wanted.filter((n) => !(n in SERVICES));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(`unknown service ${unknown.join(', ') || '(none)'}; available: ${available.join(', ') || '(none yet)'}`);
  }
  return wanted as ServiceName[];
}
