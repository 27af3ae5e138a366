#!/usr/bin/env node
// The `vigil` command. Plain JavaScript so npm can link it; the TypeScript sources run
// through tsx's loader, registered here for this process and its worker threads.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
