export function postgresFactory(): { name: string; open: () => Promise<never> } {
  return { name: 'postgres', open: () => Promise.reject(new Error('not yet')) };
}
