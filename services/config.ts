import { readConsoleConfig, type ConsoleConfig } from '../shared/config/console-config.ts';
import { ConfigError, EnvReader, type Env } from '../shared/config/env-reader.ts';
import { readPlatformConfig, type PlatformConfig } from '../shared/config/platform-config.ts';
import { readNotifierConfig, type NotifierConfig } from './notifier/config.ts';
import { readTranscoderConfig, type TranscoderConfig } from './transcoder/config.ts';
import { readUpkeepConfig, type UpkeepConfig } from './upkeep/config.ts';
import { readUploaderConfig, type UploaderConfig } from './uploader/config.ts';

/**
 * Everything Vigil reads from the environment: the platform's sections (shared/config) and
 * each service's own (`services/<name>/config.ts`). A new service with settings of its own
 * adds its section file and a line here.
 */
export interface Config extends PlatformConfig {
  transcoder: TranscoderConfig;
  uploader: UploaderConfig;
  notifier: NotifierConfig;
  upkeep: UpkeepConfig;
  console: ConsoleConfig;
}

/**
 * The only reader of the environment. Pure but for reading `X_FILE` secrets; one reader for
 * every section, so the `ConfigError` it throws names every bad variable at once.
 */
export function loadConfig(env: Env = process.env): Config {
  const r = new EnvReader(env);
  const config: Config = {
    ...readPlatformConfig(r),
    transcoder: readTranscoderConfig(r),
    uploader: readUploaderConfig(r),
    notifier: readNotifierConfig(r),
    upkeep: readUpkeepConfig(r),
    console: readConsoleConfig(r),
  };
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}

export { ConfigError };

/** For `vigil rescue`, which reads the upkeep's section but, as the CLI, no service's code. */
export { DEFAULT_RESCUE_INTERVAL_MS } from './upkeep/config.ts';
