#!/usr/bin/env node
// The `vigil` command. Plain JavaScript so npm can link it; the TypeScript sources run
// through tsx's loader, registered here for this process and its worker threads.
import { enableCompileCache } from 'node:module';
import { register } from 'tsx/esm/api';

// Scripts run `vigil enroll`/`snapshot` once per image: V8 keeps the compiled code of the
// drivers and the SDKs on disk (the OS's temporary folder) instead of compiling it again on
// every run. Without a writable folder it is simply off.
enableCompileCache();
register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
