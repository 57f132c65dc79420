// A measurement window: what the controllers and the control plane used between open and close —
// CPU-seconds and peak memory per controller, the controllers' API requests (audit log), every client's
// requests (apiserver metrics), Git requests, and the apiserver's and etcd's CPU.
import { type ApiCalls, auditOffset, countAuditWindow } from './audit.ts';
import { apiserverRequests, type Bed } from './bed.ts';
import { diffGitCounts, type GitCounts } from './gitcount.ts';
import { type ProcSample, sampleProc } from './procfs.ts';
import { diffCounts } from './promtext.ts';
import { round } from './stats.ts';
import type { ControllerSet } from './suites.ts';

export interface Measured {
  seconds: number;
  /** CPU-seconds per controller in the window (children included). */
  cpuS: Record<string, number>;
  /** VmHWM per controller at the end: the peak since the process started. */
  peakRssMiB: Record<string, number>;
  /** The controllers' requests (their user's audit events). */
  api: ApiCalls;
  /** apiserver_request_total deltas by verb: every client, the control plane's own included. */
  apiserverAll: Record<string, number>;
  git: GitCounts;
  controlPlaneCpuS: { apiserver: number; etcd: number };
}

interface Snapshot {
  at: number;
  procs: Record<string, ProcSample>;
  audit: number;
  api: Record<string, number>;
  git: GitCounts;
  cp: { apiserver: number; etcd: number };
}

async function controlPlaneCpu(bed: Bed) {
  const cpu = async (pid?: number) => (pid ? ((await sampleProc(pid))?.cpuS ?? 0) : 0);
  return {
    apiserver: await cpu(bed.controlPlane.pids['kube-apiserver']),
    etcd: await cpu(bed.controlPlane.pids.etcd),
  };
}

async function snapshot(bed: Bed, set?: ControllerSet): Promise<Snapshot> {
  return {
    at: Date.now(),
    procs: set ? await set.sample() : {},
    audit: await auditOffset(bed.auditLog),
    api: await apiserverRequests(bed),
    git: { ...bed.gitCounts },
    cp: await controlPlaneCpu(bed),
  };
}

export interface Window {
  close(set?: ControllerSet): Promise<Measured>;
}

/**
 * Opens a window. A controller that was not running at open (a restart) counts from its start; the
 * controller set may differ at close for that reason.
 */
export async function openWindow(bed: Bed, set?: ControllerSet): Promise<Window> {
  const before = await snapshot(bed, set);
  return {
    async close(closeSet = set) {
      const after = await snapshot(bed, closeSet);
      const cpuS: Record<string, number> = {};
      const peakRssMiB: Record<string, number> = {};
      for (const [name, s] of Object.entries(after.procs)) {
        cpuS[name] = round(s.cpuS - (before.procs[name]?.cpuS ?? 0));
        peakRssMiB[name] = round(s.peakRssMiB, 1);
      }
      return {
        seconds: round((after.at - before.at) / 1000),
        cpuS,
        peakRssMiB,
        api: await countAuditWindow(bed.auditLog, before.audit, after.audit),
        apiserverAll: diffCounts(after.api, before.api),
        git: diffGitCounts(after.git, before.git),
        controlPlaneCpuS: {
          apiserver: round(after.cp.apiserver - before.cp.apiserver),
          etcd: round(after.cp.etcd - before.cp.etcd),
        },
      };
    },
  };
}
