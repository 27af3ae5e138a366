#!/usr/bin/env node
// The `vigil` command. Plain JavaScript so npm can link it; Node (>= 24) runs the TypeScript
// sources itself by stripping their types, so there is no loader to register and no build.
import { enableCompileCache } from 'node:module';

// Scripts run `vigil enroll`/`snapshot` once per image: V8 keeps the compiled code of the
// drivers and the SDKs on disk (the OS's temporary folder) instead of compiling it again on
// every run. Without a writable folder it is simply off.
enableCompileCache();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
