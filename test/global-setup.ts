// Placeholder until the lab lands: starts nothing.
export default async function setup(): Promise<void> {}
