// A private nginx for a test: what every such config needs besides its own server blocks.

/** The main-context lines and the http-context temp paths of an nginx run in `dir`, as root, daemonised. */
export function nginxPreamble(
  dir: string,
  pid: string,
  workerConnections = 64,
): { main: string; tempPaths: string } {
  return {
    main: `user root;
worker_processes 1;
daemon on;
pid ${pid};
error_log ${dir}/error.log warn;
events { worker_connections ${workerConnections}; }`,
    tempPaths: `client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;`,
  };
}
