import type { EnvReader } from './env-reader.ts';

export interface DatabaseConfig {
  /** @default 'mysql://root@127.0.0.1:3306/vigil' */
  url: string;
  /** @default 10 */
  poolSize: number;
}

export function readDatabaseConfig(r: EnvReader): DatabaseConfig {
  return {
    url: r.url('DATABASE_URL', 'mysql://root@127.0.0.1:3306/vigil', ['mysql', 'mariadb'])!,
    poolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 500),
  };
}
