/** @internal Version written into the models ctrkit builds (`producerVersion`). */
export const VERSION = '0.1.0';
