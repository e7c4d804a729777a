/** Raw HTTP over plain sockets: shared with the probe (bench/probe), which drives the same cases at scale. */
export * from '../../../bench/probe/raw-http';
