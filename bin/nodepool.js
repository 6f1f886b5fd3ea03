#!/usr/bin/env node
// The `nodepool` command. TypeScript sources are loaded through tsx, so a clone runs without a build step.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
