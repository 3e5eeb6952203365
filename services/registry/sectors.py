"""Vietnamese names of the VSIC 2018 divisions the engine's documents mention (others print their code)."""
from __future__ import annotations

SECTOR_VI: dict[str, str] = {
    "05": "Khai thác than", "06": "Khai thác dầu thô và khí đốt", "07": "Khai thác quặng kim loại",
    "08": "Khai khoáng khác", "09": "Hoạt động dịch vụ hỗ trợ khai khoáng", "10": "Sản xuất, chế biến thực phẩm",
    "13": "Dệt", "14": "Sản xuất trang phục", "15": "Sản xuất da và các sản phẩm có liên quan",
    "16": "Chế biến gỗ và sản xuất sản phẩm từ gỗ", "20": "Sản xuất hóa chất và sản phẩm hóa chất",
    "22": "Sản xuất sản phẩm từ cao su và plastic", "23": "Sản xuất sản phẩm từ khoáng phi kim loại khác",
    "24": "Sản xuất kim loại", "25": "Sản xuất sản phẩm từ kim loại đúc sẵn", "35": "Sản xuất và phân phối điện",
    "41": "Xây dựng nhà các loại", "42": "Xây dựng công trình kỹ thuật dân dụng", "43": "Hoạt động xây dựng chuyên dụng",
    "46": "Bán buôn", "47": "Bán lẻ", "49": "Vận tải đường sắt, đường bộ", "52": "Kho bãi và hỗ trợ vận tải",
}


def sector_name(code: str) -> str:
    return SECTOR_VI.get(code, f"Ngành VSIC {code}")
