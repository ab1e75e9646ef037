// `liangxin-gateway models`: the catalogue as the contract states it (src/spec/models.ts reads
// openapi/liangxin.yaml), so this list cannot drift from what createTask accepts.
import type { Command } from 'commander';
import type { ModelField, ModelInfo } from '../spec/models.js';
import { printJson, printLines, table } from './output.js';

function fieldRow(field: ModelField): string[] {
  const rest = [
    field.values ? `one of ${field.values.join(', ')}` : '',
    field.limits ?? '',
    field.default !== undefined ? `default ${String(field.default)}` : '',
    field.deprecated ? 'deprecated' : '',
  ];
  return [field.name, field.type, field.required ? 'required' : 'optional', rest.filter(Boolean).join('; ')];
}

export function formatModels(models: readonly ModelInfo[]): string[] {
  const lines: string[] = [];
  for (const info of models) {
    if (lines.length > 0) lines.push('');
    lines.push(`${info.model} — ${info.title}`);
    const titled = info.variants.length > 1;
    for (const variant of info.variants) {
      if (titled) lines.push(`  ${variant.title}:`);
      lines.push(...table(variant.fields.map(fieldRow), titled ? '    ' : '  '));
    }
    for (const rule of info.rules) lines.push(`  rule: ${rule}`);
  }
  return lines;
}

export function registerModelsCommand(program: Command): void {
  program
    .command('models')
    .description('list the models createTask accepts, with their input fields (from the contract)')
    .option('--json', 'print the catalogue as JSON (an array of models)', false)
    .action(async (options: { json: boolean }) => {
      const { listModels } = await import('../spec/models.js');
      const models = listModels();
      if (options.json) printJson(models);
      else printLines(formatModels(models));
    });
}
