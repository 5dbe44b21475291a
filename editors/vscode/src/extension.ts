// VS Code client for the Pol language server (`pol-lsp`).
//
// The server is a separate binary, built from the `lsp` crate of the Pol repository
// (`cargo install --path lsp`). This extension finds it (setting `pol.server.path`, default
// `pol-lsp` looked up on PATH), starts it over stdio and connects it to every `.pol` file.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';

const CLIENT_ID = 'pol'; // also the prefix of the `pol.trace.server` setting read by the client
const CLIENT_NAME = 'Pol Language Server';
const DEFAULT_SERVER = 'pol-lsp';
const INSTALL_HINT =
  'Install it with `cargo install --path lsp` from the root of the Pol repository ' +
  '(this puts `pol-lsp` in ~/.cargo/bin, which must be on PATH), ' +
  'or set `pol.server.path` to the full path of the binary.';

let client: LanguageClient | undefined;
let outputChannel: vscode.OutputChannel | undefined;
let fileWatcher: vscode.FileSystemWatcher | undefined;
let pending: Promise<void> = Promise.resolve();

export function activate(context: vscode.ExtensionContext): Promise<void> {
  outputChannel = vscode.window.createOutputChannel(CLIENT_NAME);
  fileWatcher = vscode.workspace.createFileSystemWatcher('**/{*.pol,pol.toml}');
  context.subscriptions.push(
    outputChannel,
    fileWatcher,
    vscode.commands.registerCommand('pol.restartServer', () => serialize(restartClient)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('pol.server.path')) {
        void serialize(restartClient);
      }
    }),
  );
  return serialize(startClient);
}

export function deactivate(): Promise<void> {
  return serialize(stopClient);
}

/** Runs start/stop/restart one at a time, so that a quick double restart cannot race. */
function serialize(action: () => Promise<void>): Promise<void> {
  pending = pending.then(action, action);
  return pending;
}

async function restartClient(): Promise<void> {
  await stopClient();
  await startClient();
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running === undefined) {
    return;
  }
  try {
    await running.stop();
  } catch (error) {
    log(`error while stopping the server: ${describe(error)}`);
  }
  try {
    await running.dispose();
  } catch {
    // already stopped
  }
}

async function startClient(): Promise<void> {
  const configured = vscode.workspace.getConfiguration('pol').get<string>('server.path')?.trim() || DEFAULT_SERVER;
  const command = resolveServerCommand(configured);
  if (command === undefined) {
    const where = isBareName(configured) ? 'was not found on PATH' : 'does not exist or is not executable';
    reportStartFailure(`the language server \`${configured}\` ${where}.`, INSTALL_HINT);
    return;
  }

  const serverOptions: ServerOptions = {
    run: { command, args: [], transport: TransportKind.stdio },
    debug: { command, args: [], transport: TransportKind.stdio },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: 'file', language: 'pol' }],
    synchronize: { fileEvents: fileWatcher },
    outputChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
  };

  log(`starting ${command}`);
  let created: LanguageClient | undefined;
  try {
    created = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    await created.start();
    client = created;
  } catch (error) {
    try {
      await created?.dispose();
    } catch {
      // the client never got running
    }
    const reason = `the language server \`${command}\` could not be started: ${describe(error)}.`;
    // A spawn error means the binary is missing or unusable: say how to install it. Any other error
    // (a crash, a failed handshake) is the server's own, and its output explains it.
    reportStartFailure(reason, isSpawnError(error) ? INSTALL_HINT : 'See the "Pol Language Server" output.');
  }
}

/** Logs the failure and shows it; does not wait for the user, so activation and restarts go on. */
function reportStartFailure(reason: string, advice: string): void {
  const message = `Pol: ${reason} ${advice}`;
  log(message);
  const openSettings = 'Open Settings';
  const showOutput = 'Show Output';
  void vscode.window.showErrorMessage(message, openSettings, showOutput).then((choice) => {
    if (choice === openSettings) {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'pol.server.path');
    } else if (choice === showOutput) {
      outputChannel?.show(true);
    }
  });
}

/**
 * Turns the `pol.server.path` setting into an executable path, or `undefined` when there is none.
 * A bare name is looked up on PATH; `~` and `${workspaceFolder}` are expanded; a relative path is
 * taken from the first workspace folder.
 */
export function resolveServerCommand(setting: string): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  let expanded = setting.replace(/^~(?=$|[\\/])/, os.homedir());
  if (folder !== undefined) {
    expanded = expanded.replace(/\$\{workspaceFolder\}/g, folder);
  }
  if (isBareName(expanded)) {
    return findOnPath(expanded);
  }
  const absolute = path.isAbsolute(expanded) ? expanded : path.resolve(folder ?? process.cwd(), expanded);
  return candidates(absolute).find(isExecutable);
}

function isBareName(command: string): boolean {
  return !command.includes('/') && !command.includes('\\');
}

function findOnPath(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    const found = candidates(path.join(dir, name)).find(isExecutable);
    if (found !== undefined) {
      return found;
    }
  }
  return undefined;
}

/** On Windows `pol-lsp` is `pol-lsp.exe` (or another PATHEXT extension). */
function candidates(file: string): string[] {
  if (process.platform !== 'win32' || path.extname(file) !== '') {
    return [file];
  }
  const exts = (process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((ext) => ext !== '');
  return [file, ...exts.map((ext) => file + ext.toLowerCase())];
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    fs.accessSync(file, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isSpawnError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  const text = describe(error);
  return (
    code === 'ENOENT' || code === 'EACCES' || code === 'ENOEXEC' || /\b(ENOENT|EACCES|ENOEXEC)\b|spawn/.test(text)
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function log(message: string): void {
  outputChannel?.appendLine(`[${new Date().toISOString()}] ${message}`);
}
