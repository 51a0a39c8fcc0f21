import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const APP = `
import 'reflect-metadata';
import { Column, DataSource, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { OAuthConsumerEntity, TypeOrmStorage, UserRequiredError } from 'typeorm-oauth-storage';

@Entity()
class User {
  @PrimaryGeneratedColumn() id!: number;
}

@Entity()
class OAuth extends OAuthConsumerEntity {
  @Column({ type: 'int', nullable: true }) userId!: number | null;
  @ManyToOne(() => User, { nullable: true, onDelete: 'CASCADE' }) @JoinColumn({ name: 'userId' }) user!: User | null;
}

async function main() {
  const dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [User, OAuth], synchronize: true }).initialize();
  const user = await dataSource.getRepository(User).save({});
  let current: User | null = user;
  const storage = new TypeOrmStorage(dataSource, OAuth, { user: () => current });
  await storage.set('github', { access_token: 'abc' });
  const got = await storage.get('github');
  await storage.delete('github');
  const afterDelete = await storage.get('github');
  current = null;
  const required = await storage.get('github').catch((e) => e instanceof UserRequiredError);
  console.log(JSON.stringify({ got, afterDelete, required }));
  await dataSource.destroy();
}
main();
`;

describe('the packed package', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'oauth-pack-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('installs into a scratch app, compiles against its types, and stores tokens on SQLite', () => {
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root));
    const files: string[] = packed.files.map((f: { path: string }) => f.path);
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.filter((f) => !/^(dist\/|README\.md$|LICENSE$|package\.json$)/.test(f))).toEqual([]);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
    // The same versions this checkout tests with, from npm's cache when it has them.
    const version = (name: string) => `${name}@${require(join(root, 'node_modules', name, 'package.json')).version}`;
    run('npm', ['install', join(work, packed.filename), version('typeorm'), version('reflect-metadata'), version('better-sqlite3'),
      '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    // better-sqlite3's install script compiles it for minutes; reuse this checkout's build of the same version.
    cpSync(join(root, 'node_modules', 'better-sqlite3', 'build'), join(app, 'node_modules', 'better-sqlite3', 'build'), {
      recursive: true,
    });
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'commonjs', strict: true, outDir: 'out', experimentalDecorators: true,
          emitDecoratorMetadata: true, esModuleInterop: true, skipLibCheck: true, types: [],
        },
        files: ['app.ts'],
      }),
    );
    writeFileSync(join(app, 'app.ts'), APP);
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], app);
    const output = JSON.parse(run(process.execPath, [join(app, 'out', 'app.js')], app));
    expect(output).toEqual({ got: { access_token: 'abc' }, afterDelete: null, required: true });
  }, 180_000);
});
