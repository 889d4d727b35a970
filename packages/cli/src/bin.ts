#!/usr/bin/env node
import { nodeIo } from './io.js';
import { runCli } from './main.js';

void runCli(process.argv.slice(2), nodeIo()).then((status) => {
  process.exitCode = status;
});
