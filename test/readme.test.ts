import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

const root = join(__dirname, '..');

/** Names README snippets use without defining, as an app around them would have them. */
const CONTEXT: Record<string, string> = {
  dataSource: "declare const dataSource: import('typeorm').DataSource;",
  OAuth: "import { OAuth } from '../../../examples/entities/oauth.entity';",
  User: "import { User } from '../../../examples/entities/user.entity';",
  currentUser: "declare function currentUser(): import('../../../examples/entities/user.entity').User | null;",
  currentSession: 'declare function currentSession(): Record<string, unknown> | undefined;',
  storage: "declare const storage: import('typeorm-oauth-storage').TypeOrmStorage<import('../../../examples/entities/user.entity').User>;",
};

function snippets(file: string): string[] {
  return [...readFileSync(join(root, file), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function withContext(code: string): string {
  const needed = Object.entries(CONTEXT)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code))
    .filter(([name]) => !new RegExp(`(class|const|let|function)\\s+${name}\\b|import\\s*\\{[^}]*\\b${name}\\b`).test(code))
    .map(([, line]) => line);
  // `export {}` keeps each snippet a module of its own, even when it has no imports.
  return [...needed, code, 'export {};'].join('\n');
}

describe('README examples', () => {
  // Inside the checkout, so snippets resolve its node_modules; a fresh folder, so parallel runs don't collide.
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'readme-examples-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compile against the package', () => {
    const blocks = snippets('README.md');
    expect(blocks.length).toBeGreaterThan(5);
    const files = blocks.map((code, i) => {
      const file = join(dir, `snippet-${i}.ts`);
      writeFileSync(file, withContext(code));
      return file;
    });
    const program = ts.createProgram(files, {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2024.full.d.ts'], // the package's sources use ES2024 string methods, as tsconfig.json allows
      module: ts.ModuleKind.ES2022, // top-level await, as in the snippets
      moduleResolution: ts.ModuleResolutionKind.Node10,
      strict: true,
      noEmit: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      esModuleInterop: true,
      skipLibCheck: true,
      types: ['node'],
      baseUrl: root,
      paths: { 'typeorm-oauth-storage': ['src/index.ts'] },
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.replace(dir, 'README snippet')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(errors).toEqual([]);
  });
});
