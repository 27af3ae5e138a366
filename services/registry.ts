import type { ServiceModule } from '../shared/app/app-context.ts';
import type { ServiceNeeds } from '../shared/app/checks/service-checks.ts';
import type { Config } from './config.ts';
import { needs as consoleApp } from './console/checks.ts';
import { needs as facetraining } from './facetraining/checks.ts';
import { needs as facestreaming } from './facestreaming/checks.ts';
import { needs as notifier } from './notifier/checks.ts';
import { needs as transcoder } from './transcoder/checks.ts';
import { needs as upkeep } from './upkeep/checks.ts';
import { needs as uploader } from './uploader/checks.ts';

export interface ServiceEntry {
  /** Loaded on demand, so a process that runs only the transcoder never loads TensorFlow. */
  load(): Promise<ServiceModule<Config>>;
  /** What `vigil run` and `vigil doctor` check on this host for it (light: no service code). */
  needs: ServiceNeeds<Config>;
}

/**
 * The services `vigil run` can start: queue consumers, scheduled jobs or an HTTP app alike.
 * Adding a service is its folder and one line here (and its queue in the contract if it has
 * one, and its compose entry).
 */
export const SERVICES = {
  facetraining: { load: async () => (await import('./facetraining/main.ts')).service, needs: facetraining },
  facestreaming: { load: async () => (await import('./facestreaming/main.ts')).service, needs: facestreaming },
  transcoder: { load: async () => (await import('./transcoder/main.ts')).service, needs: transcoder },
  uploader: { load: async () => (await import('./uploader/main.ts')).service, needs: uploader },
  notifier: { load: async () => (await import('./notifier/main.ts')).service, needs: notifier },
  upkeep: { load: async () => (await import('./upkeep/main.ts')).service, needs: upkeep },
  console: { load: async () => (await import('./console/main.ts')).service, needs: consoleApp },
} satisfies Record<string, ServiceEntry>;

/** The services one `vigil` process knows: SERVICES, or (in a test) SERVICES and more. */
export type Registry = Readonly<Record<string, ServiceEntry>>;

export function availableServices(registry: Registry = SERVICES): string[] {
  return Object.keys(registry);
}

/** Names as given on a command line (`all` for every available one), checked. */
export function resolveServices(names: readonly string[], registry: Registry = SERVICES): string[] {
  const available = availableServices(registry);
  const wanted = names.length === 0 || names.includes('all') ? available : [...new Set(names)];
  const unknown = wanted.filter((n) => !Object.hasOwn(registry, n));
  if (unknown.length > 0 || wanted.length === 0) {
    throw new Error(`unknown service ${unknown.join(', ') || '(none)'}; available: ${available.join(', ') || '(none yet)'}`);
  }
  return wanted;
}

export function needsOf(names: readonly string[], registry: Registry = SERVICES): ServiceNeeds<Config>[] {
  return names.map((n) => registry[n]!.needs);
}

/** The named services' modules, loaded (their code is imported only now). */
export function loadServices(names: readonly string[], registry: Registry = SERVICES): Promise<ServiceModule<Config>[]> {
  return Promise.all(names.map((n) => registry[n]!.load()));
}
