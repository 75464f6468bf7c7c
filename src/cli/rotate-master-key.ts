// PLACEHOLDER: being written (issue #2).
export async function runRotateMasterKey(_args: string[]): Promise<number> {
  process.stderr.write("rotate-master-key: not implemented yet\n");
  return 1;
}
