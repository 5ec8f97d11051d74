// The transport baseline for `tools/ipx bench gateway`: a plain WebSocket echo server
// (Node's `ws`, Debian's node-ws) that sends every text frame back as it came, no
// permessage-deflate. Usage: node tools/ws_echo.js [PORT] (0: any; prints "echo ready PORT").
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0),
                                  perMessageDeflate: false, maxPayload: 64 * 1024 });
wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => console.log(`echo ready ${wss.address().port}`));
