/**
 * The part of POSIX sh grammar a sim host understands: words with '…', "…" and \
 * quoting, pipelines, `;` `&&` `||` lists, and `<` `>` `>>` redirections. Parameter
 * expansion, command substitution, globbing, subshells and background jobs are not
 * interpreted: a line using them unquoted is refused with a syntax error (exit 2)
 * instead of being run with a meaning a real shell would not give it.
 */

export interface Redirect {
  op: "<" | ">" | ">>";
  target: string;
}

export interface SimpleCommand {
  words: string[];
  redirects: Redirect[];
}

export type Pipeline = SimpleCommand[];

export interface ListItem {
  pipeline: Pipeline;
  /** How this item runs relative to the previous one's status. */
  after: ";" | "&&" | "||";
}

export class ShellSyntaxError extends Error {}

type Token = { kind: "word"; text: string } | { kind: "op"; text: string };

const UNSUPPORTED_OPS = new Set(["&", "(", ")"]);

function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let word: string | null = null;
  const endWord = () => {
    if (word !== null) tokens.push({ kind: "word", text: word });
    word = null;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      endWord();
      i++;
    } else if (c === "\n") {
      endWord();
      tokens.push({ kind: "op", text: ";" });
      i++;
    } else if (c === "#" && word === null) {
      while (i < line.length && line[i] !== "\n") i++;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new ShellSyntaxError("unexpected EOF while looking for matching `''");
      word = (word ?? "") + line.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      let text = "";
      i++;
      for (;;) {
        if (i >= line.length) throw new ShellSyntaxError("unexpected EOF while looking for matching `\"'");
        const d = line[i]!;
        if (d === '"') break;
        if (d === "$" || d === "`")
          throw new ShellSyntaxError(`expansion \`${d}' inside double quotes is not supported`);
        if (d === "\\" && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== "\n") text += line[i + 1];
          i += 2;
          continue;
        }
        text += d;
        i++;
      }
      word = (word ?? "") + text;
      i++;
    } else if (c === "\\") {
      if (i + 1 < line.length && line[i + 1] !== "\n") word = (word ?? "") + line[i + 1];
      i += 2;
    } else if (c === "$" || c === "`") {
      throw new ShellSyntaxError(`unquoted \`${c}' (expansion) is not supported`);
    } else if ("|&;<>()".includes(c)) {
      endWord();
      const two = line.slice(i, i + 2);
      const op = ["||", "&&", ">>"].includes(two) ? two : c;
      if (UNSUPPORTED_OPS.has(op)) throw new ShellSyntaxError(`syntax error near unexpected token \`${op}'`);
      tokens.push({ kind: "op", text: op });
      i += op.length;
    } else if ("*?[".includes(c)) {
      throw new ShellSyntaxError(`unquoted glob \`${c}' is not supported`);
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  endWord();
  return tokens;
}

export function parseLine(line: string): ListItem[] {
  const tokens = tokenize(line);
  const items: ListItem[] = [];
  let after: ListItem["after"] = ";";
  let pipeline: Pipeline = [];
  let command: SimpleCommand = { words: [], redirects: [] };
  const near = (t: string) => new ShellSyntaxError(`syntax error near unexpected token \`${t}'`);

  const endCommand = (op: string) => {
    if (command.words.length === 0) throw near(op);
    pipeline.push(command);
    command = { words: [], redirects: [] };
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === "word") {
      command.words.push(t.text);
      continue;
    }
    if (t.text === "<" || t.text === ">" || t.text === ">>") {
      const target = tokens[i + 1];
      if (!target || target.kind !== "word") throw near(target?.text ?? "newline");
      command.redirects.push({ op: t.text, target: target.text });
      i++;
      continue;
    }
    if (t.text === "|") {
      endCommand("|");
      continue;
    }
    // ; && ||  (an empty `;` is what a blank line gives: nothing to run)
    if (command.words.length === 0 && pipeline.length === 0) {
      if (t.text === ";") continue;
      throw near(t.text);
    }
    endCommand(t.text);
    items.push({ pipeline, after });
    pipeline = [];
    after = t.text as ListItem["after"];
  }
  if (command.words.length > 0 || command.redirects.length > 0) endCommand("newline");
  else if (pipeline.length > 0) throw near("newline");
  if (pipeline.length > 0) items.push({ pipeline, after });
  return items;
}
