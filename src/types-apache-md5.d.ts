// apache-md5 ships no type declarations.
declare module "apache-md5" {
  /** APR1-MD5 ($apr1$) or MD5-crypt ($1$) of `password`, with the salt taken from `salt` (a whole hash will do). */
  export default function md5(password: string, salt?: string): string;
}
