// `liangxin-gateway/client`: the client now ships on its own as `liangxin-client` (openapi-fetch
// is its one dependency); this subpath stays so code written against the gateway package keeps
// working, and hands out the very same module (one LiangxinError class, not a copy).
export * from 'liangxin-client';
