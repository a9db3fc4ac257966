"""The portal's routes, in the order the app mounts them."""

from .portal import audiensi, informasi, lacak, lupa, pengaduan, survei

ROUTERS = (informasi.router, audiensi.router, pengaduan.router, lacak.router, lupa.router, survei.router)
