// The API reference (npm run docs: TypeDoc over src/index.ts, typedoc.json). TypeDoc fails
// on a warning there: an exported name without TSDoc, a public type that names an unexported
// one, a broken {@link}. This runs the same checks without writing the pages, and checks
// that every optional input of the public API (a field of an *Args, *Options or *Extras
// type, or of an options object a method takes) says its default (or when it is required). Reads dist/index.d.cts,
// the declarations the package ships: needs `npm run build` (npm test runs it).

import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { RELAXED_PROJECT } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');

/** `Owner.field` for each optional input field of the declarations whose TSDoc says neither "default" nor "required". */
function optionsWithoutDefault(path: string): string[] {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
  const missing: string[] = [];
  const check = (owner: string, members: ts.NodeArray<ts.TypeElement>) => {
    for (const member of members) {
      if (!ts.isPropertySignature(member) || !member.questionToken) continue;
      const docs = ts.getJSDocCommentsAndTags(member).map((doc) => doc.getText()).join(' ');
      if (!/\b(default|required)\b/i.test(docs)) missing.push(`${owner}.${member.name.getText()}`);
    }
  };
  const visit = (node: ts.Node, owner: string): void => {
    if (ts.isInterfaceDeclaration(node) && /(Args|Options|Extras)$/.test(node.name.text)) check(node.name.text, node.members);
    // an options object a method or a function takes: `options?: { ... }`
    if (ts.isParameter(node) && node.type) {
      const literals = ts.isTypeLiteralNode(node.type) ? [node.type]
        : ts.isIntersectionTypeNode(node.type) ? node.type.types.filter(ts.isTypeLiteralNode) : [];
      for (const literal of literals) check(`${owner}(${node.name.getText()})`, literal.members);
    }
    const name = (node as { name?: ts.Node }).name;
    ts.forEachChild(node, (child) => visit(child, name && !ts.isParameter(node) ? name.getText() : owner));
  };
  visit(source, '');
  return missing;
}

describe.skipIf(RELAXED_PROJECT)('the API reference', () => {
  it('TypeDoc finds every public name documented, every link resolved (npm run docs without writing)', () => {
    // typedoc.json: treatWarningsAsErrors, validation notDocumented / notExported / invalidLink
    let output = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'], {
        cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      });
    } catch (err) {
      output = `${(err as { stdout: string }).stdout}${(err as { stderr: string }).stderr}`;
    }
    expect(output).toBe('');
  }, 60_000);

  it('every optional input of the public API says its default (or when it is required)', () => {
    expect(optionsWithoutDefault(join(ROOT, 'dist/index.d.cts'))).toEqual([]);
  });
});
