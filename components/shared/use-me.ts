"use client";

import { useQuery } from "@tanstack/react-query";
import { can, sees } from "@/server/auth/roles";
import { useTRPC } from "./trpc";

/** The signed-in user and what the UI should offer them (the API enforces it anyway). */
export function useMe() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.queryOptions());
  const role = me.data?.role;
  return {
    user: me.data,
    canOperate: role ? can.operate(role) : false,
    canBook: role ? can.book(role) : false,
    seesInfrastructure: role ? sees.infrastructure(role) : false,
    seesSsh: role ? sees.ssh(role) : false,
  };
}
