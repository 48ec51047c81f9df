export async function cmdCompare(_argv: string[]): Promise<number> {
  return 2;
}
