// tide completion bash|zsh|fish
// Shell completion scripts generated from the command table: command names, each command's words
// (kinds, subcommands) and the words after a group (`source` → git, oci, ...), and every flag.
import type { Command, Context, FlagSpecs } from '../command.ts';
import { CliError } from '../errors.ts';
import { groupKinds, type KindGroup } from '../kinds.ts';

interface Model {
  commands: {
    name: string;
    summary: string;
    words: string[];
    subwords: Record<string, string[]>;
    flags: string[];
  }[];
  global: string[];
}

const flagWords = (specs: FlagSpecs): string[] =>
  Object.entries(specs).flatMap(([name, s]) => [`--${name}`, ...(s.short ? [`-${s.short}`] : [])]);

/** What completion knows, from the table: kind groups give their members after `source`/`image`. */
export function completionModel(commands: readonly Command[], global: FlagSpecs): Model {
  const groups: Record<string, string[]> = {};
  for (const g of ['source', 'image'] as KindGroup[]) {
    const members = [...groupKinds(g).keys()];
    groups[g] = members;
    groups[`${g}s`] = ['all', ...members];
  }
  return {
    commands: commands.map((c) => ({
      name: c.name,
      summary: c.summary,
      words: [...(c.words ?? [])],
      subwords: {
        ...groups,
        ...Object.fromEntries(Object.entries(c.subwords ?? {}).map(([k, v]) => [k, [...v]])),
      },
      flags: flagWords(c.flags),
    })),
    global: flagWords(global),
  };
}

const q = (words: readonly string[]) => words.join(' ');

export function bashScript(m: Model): string {
  const cases = m.commands
    .map((c) => {
      const sub = Object.entries(c.subwords)
        .map(([w, list]) => `        ${w}) sub="${q(list)}" ;;`)
        .join('\n');
      return `    ${c.name})
      words="${q(c.words)}"; flags="${q(c.flags)}"
      case "\${COMP_WORDS[2]}" in
${sub}
      esac ;;`;
    })
    .join('\n');
  return `# bash completion for tide; load with: source <(tide completion bash)
_tide() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" words="" flags="" sub=""
  local global="${q(m.global)}"
  case "$cmd" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$flags $global" -- "$cur") )
  elif (( COMP_CWORD == 1 )); then
    COMPREPLY=( $(compgen -W "${q(m.commands.map((c) => c.name))}" -- "$cur") )
  elif (( COMP_CWORD == 2 )); then
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  elif (( COMP_CWORD == 3 )); then
    COMPREPLY=( $(compgen -W "$sub" -- "$cur") )
  fi
}
complete -F _tide tide
`;
}

export function zshScript(m: Model): string {
  const cases = m.commands
    .map((c) => {
      const sub = Object.entries(c.subwords)
        .map(([w, list]) => `        ${w}) sub=(${q(list)}) ;;`)
        .join('\n');
      return `    ${c.name})
      words=(${q(c.words)}); flags=(${q(c.flags)})
      case "\${words_[3]}" in
${sub}
      esac ;;`;
    })
    .join('\n');
  return `#compdef tide
# zsh completion for tide; load with: source <(tide completion zsh)
_tide() {
  local -a words_ cmds words flags sub global
  words_=("\${words[@]}")
  cmds=(${m.commands.map((c) => `'${c.name}:${c.summary.replaceAll("'", '')}'`).join(' ')})
  global=(${q(m.global)})
  case "\${words_[2]}" in
${cases}
  esac
  if [[ "$PREFIX" == -* ]]; then
    compadd -- $flags $global
  elif (( CURRENT == 2 )); then
    _describe 'command' cmds
  elif (( CURRENT == 3 )); then
    compadd -- $words
  elif (( CURRENT == 4 )); then
    compadd -- $sub
  fi
}
compdef _tide tide
`;
}

export function fishScript(m: Model, global: FlagSpecs, commands: readonly Command[]): string {
  const esc = (s: string) => s.replaceAll("'", "\\'");
  const lines = [
    '# fish completion for tide; load with: tide completion fish | source',
    'complete -c tide -f',
  ];
  for (const c of m.commands)
    lines.push(`complete -c tide -n '__fish_use_subcommand' -a '${c.name}' -d '${esc(c.summary)}'`);
  const flagLines = (specs: FlagSpecs, cond: string) =>
    Object.entries(specs).map(
      ([name, s]) =>
        `complete -c tide ${cond}-l ${name}${s.short ? ` -s ${s.short}` : ''}${s.type === 'string' ? ' -r' : ''} -d '${esc(s.description)}'`,
    );
  lines.push(...flagLines(global, ''));
  for (const [i, c] of m.commands.entries()) {
    const seen = `-n '__fish_seen_subcommand_from ${c.name}' `;
    if (c.words.length) lines.push(`complete -c tide ${seen}-a '${q(c.words)}'`);
    for (const [w, list] of Object.entries(c.subwords))
      if (c.words.includes(w))
        lines.push(
          `complete -c tide -n '__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${w}' -a '${q(list)}'`,
        );
    lines.push(...flagLines(commands[i]!.flags, seen));
  }
  return `${lines.join('\n')}\n`;
}

export function completionCommand(commands: () => readonly Command[], global: () => FlagSpecs): Command {
  return {
    name: 'completion',
    summary: 'Generate the completion script for bash, zsh or fish',
    flags: {},
    words: ['bash', 'zsh', 'fish'],
    async run(ctx: Context, args: string[]) {
      const shell = args[0];
      if (args.length !== 1 || !shell) throw new CliError('tide completion needs a shell: bash, zsh or fish');
      const model = completionModel(commands(), global());
      if (shell === 'bash') ctx.io.out(bashScript(model));
      else if (shell === 'zsh') ctx.io.out(zshScript(model));
      else if (shell === 'fish') ctx.io.out(fishScript(model, global(), commands()));
      else throw new CliError(`unsupported shell "${shell}": want bash, zsh or fish`);
      return 0;
    },
    help: `Print a shell completion script: commands, kinds and flags.

Usage:
  tide completion bash|zsh|fish

Examples:
  # bash, for this shell
  source <(tide completion bash)

  # zsh, for every shell
  tide completion zsh > "\${fpath[1]}/_tide"

  # fish
  tide completion fish > ~/.config/fish/completions/tide.fish
`,
  };
}
