import { Command, CommanderError } from 'commander';
import { ConfigError } from '../../shared/config/env-reader.ts';
import { errorMessage } from '../../shared/errors.ts';
import { CliContext, type CliIo } from './context.ts';
import type { Registry } from '../registry.ts';
import { registerEnrollAndSnapshot } from './commands/enroll-snapshot.ts';
import { registerImport } from './commands/import.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerPublish } from './commands/publish.ts';
import { registerQueues } from './commands/queues.ts';
import { registerRescue } from './commands/rescue.ts';
import { registerDeleteUser } from './commands/delete-user.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerRun } from './commands/run.ts';
import { registerVerify } from './commands/verify.ts';
import { registerGallery } from './commands/gallery.ts';
import { registerUsers } from './commands/users.ts';
import { registerExport } from './commands/export.ts';

/** EX_CONFIG from sysexits.h: the configuration is wrong, restarting will not help. */
export const EXIT_CONFIG = 78;

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('vigil')
    .description('Vigil: face verification and media pipeline services on RabbitMQ')
    .exitOverride()
    .configureOutput({ writeOut: ctx.io.out, writeErr: ctx.io.err })
    .showHelpAfterError();
  registerMigrate(program, ctx);
  registerRun(program, ctx);
  registerPublish(program, ctx);
  registerQueues(program, ctx);
  registerEnrollAndSnapshot(program, ctx);
  registerVerify(program, ctx);
  registerRescue(program, ctx);
  registerDeleteUser(program, ctx);
  registerDoctor(program, ctx);
  registerImport(program, ctx);
  registerGallery(program, ctx);
  registerUsers(program, ctx);
  registerExport(program, ctx);
  return program;
}

/** Runs one command line; resolves with the exit code. */
export async function main(argv: string[], io: CliIo = defaultIo, registry?: Registry): Promise<number> {
  const ctx = new CliContext(io, registry);
  try {
    await buildProgram(ctx).parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) {
      io.err(`${err.message}\n`);
      return EXIT_CONFIG;
    }
    io.err(`vigil: ${errorMessage(err)}\n`);
    return 1;
  }
}
