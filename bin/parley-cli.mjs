#!/usr/bin/env node
// The `parley` admin CLI (package.json `bin`): runs the TypeScript source through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('./parley-cli.ts');
