import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { registerGalleryAcceptDuplicate } from './gallery-accept-duplicate.ts';

/**
 * `vigil gallery …`: the employee's gallery and the people's decisions about it (CONTRACT.md,
 * "Gallery"). Each subcommand registers itself from its own file.
 */
export function registerGallery(program: Command, ctx: CliContext): void {
  const gallery = program.command('gallery').description("an employee's gallery of faces and the decisions about it");
  void gallery;
  void ctx;
  registerGalleryAcceptDuplicate(gallery, ctx);
}
